"""Example service: users, their items and the tags on those items."""
