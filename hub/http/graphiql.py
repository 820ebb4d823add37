"""GraphiQL served from the hub itself: the page and its scripts and styles, no CDN.

The assets are vendored in ``hub/static/graphiql`` (GraphiQL and React builds from npm), so
the page works without internet access and where public CDNs are slow or blocked.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

ASSETS_DIR = Path(__file__).parents[1] / "static" / "graphiql"
#: The URL prefix of the assets; only these files are served under it.
ASSETS_PATH = "/graphiql"
ASSETS = {
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "graphiql.min.js": "text/javascript",
    "graphiql.min.css": "text/css",
}

#: Works for every kind of API key once the Authorization header is set.
DEFAULT_QUERY = """# Welcome to Member Hub.
#
# Put your API key in the Headers tab below, then run this query (Ctrl-Enter):
#
#   {"Authorization": "Bearer YOUR_KEY"}
#
# The Docs button on the left shows the schema once the header is set.

query Tiers {
  tiers {
    code
    name
    qualifyingSpend
    pointsMultiplier
  }
}
"""

DEFAULT_HEADERS = '{\n  "Authorization": "Bearer YOUR_KEY"\n}\n'

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Member Hub GraphiQL</title>
  <link rel="stylesheet" href="{assets}/graphiql.min.css">
  <style>
    body {{ margin: 0; height: 100vh; display: flex; flex-direction: column; }}
    #note {{ font: 14px sans-serif; padding: 6px 12px; background: #fff8d6; }}
    #graphiql {{ flex: 1; min-height: 0; }}
  </style>
</head>
<body>
  <div id="note">Put your API key in the <b>Headers</b> tab (bottom left):
    <code>{{"Authorization": "Bearer YOUR_KEY"}}</code>. Without it every request answers 401.
  </div>
  <div id="graphiql">Loading...</div>
  <script src="{assets}/react.production.min.js"></script>
  <script src="{assets}/react-dom.production.min.js"></script>
  <script src="{assets}/graphiql.min.js"></script>
  <script id="defaults" type="application/json">{defaults}</script>
  <script>
    const defaults = JSON.parse(document.getElementById("defaults").textContent);
    const fetcher = GraphiQL.createFetcher({{ url: "{endpoint}" }});
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{
        fetcher,
        defaultQuery: defaults.query,
        defaultHeaders: defaults.headers,
        defaultEditorToolsVisibility: "headers",
        shouldPersistHeaders: true,
      }})
    );
  </script>
</body>
</html>
"""


def graphiql_page(endpoint: str = "/graphql") -> HTMLResponse:
    defaults = json.dumps({"query": DEFAULT_QUERY, "headers": DEFAULT_HEADERS})
    # ``</`` cannot end the JSON script element early.
    defaults = defaults.replace("</", "<\\/")
    body = _PAGE.format(assets=ASSETS_PATH, endpoint=html.escape(endpoint), defaults=defaults)
    return HTMLResponse(body)


async def graphiql_asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = ASSETS.get(name)
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        ASSETS_DIR / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )
