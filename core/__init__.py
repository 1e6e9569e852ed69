"""The bottom layer every other package may import: errors, settings, fault injection."""
