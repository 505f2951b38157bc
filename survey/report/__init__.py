"""The creation-report section 公众对生态文明建设满意度和参与度调查情况 (DOCX and HTML)."""
