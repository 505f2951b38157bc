"""The statistician's desk: weighted estimates with intervals."""
