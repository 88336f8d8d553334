"""Query module: requests in the home owner's words, refined and turned into automation plans (port 8018)."""
