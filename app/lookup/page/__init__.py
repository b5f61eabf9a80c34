"""The member page's view models: the page (model) and its parts, the answer block (answer),
the timeline (timeline, months, chart), the notices (notices) and the ticket summary
(summary). Every figure is computed here, from what was fetched; nothing here fetches."""
