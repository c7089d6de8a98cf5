"""Drawing and escaping for every page the hub writes: the dashboard, the CLI's quality report,
a model's evaluation page. `html` escapes by default; `svg` draws the charts with it."""
