"""The resident's path: landing page, questionnaire pages, thank-you page."""
