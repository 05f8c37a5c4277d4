"""The member directory: list, search, sort and map a brand's members for the App and the widget."""
