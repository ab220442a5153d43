"""Methods, pipelines, sample–method links, pipeline progress and publications."""
