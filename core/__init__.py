"""tramo: connect ERPs with e-commerce platforms and marketplace hubs through plugins."""
