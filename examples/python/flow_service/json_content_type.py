"""Whether a datacontenttype says JSON: application/json, text/json or any +json, with or without
parameters. An absent content type counts as JSON, as the CloudEvents JSON format assumes."""


def is_json(content_type):
    media = content_type.split(";")[0].strip().lower()
    return media in ("", "application/json", "text/json") or media.endswith("+json")
