"""After the all-clear: post-mortems, action items, stability and closing, stats charts."""
