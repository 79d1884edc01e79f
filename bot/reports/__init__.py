"""After the incident: the post-incident report, action items, response metrics, the App Home."""
