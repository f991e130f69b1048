"""HTTP views of the event domain: public pages, the viewer's personal pages, organiser reports."""
