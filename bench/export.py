#!/usr/bin/env python3
"""Export every chat of an organisation to a JSON Lines file, the way a plain Python script would.

The baseline `cargo xtask bench` compares `giosg chats export` with: `requests` and `json` only,
the same keyset paging as the CLI (page_size=100, `since_id` = the last chat written, until a page
comes back short), one chat per line.

    python export.py --base-url http://127.0.0.1:PORT --org ORG --out chats.jsonl

The token comes from GIOSG_API_TOKEN.
"""

import argparse
import json
import os
import sys

import requests

PAGE_SIZE = 100
MAX_PAGES = 1_000_000  # a bound on the loop: 100 million chats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--org", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    url = f"{args.base_url.rstrip('/')}/api/v5/orgs/{args.org}/chats"
    session = requests.Session()
    session.headers["Authorization"] = f"Token {os.environ['GIOSG_API_TOKEN']}"
    written = 0
    since_id = None
    with open(args.out, "w", encoding="utf-8") as out:
        for _ in range(MAX_PAGES):
            params = {"page_size": PAGE_SIZE}
            if since_id is not None:
                params["since_id"] = since_id
            response = session.get(url, params=params, timeout=60)
            response.raise_for_status()
            chats = response.json()["results"]
            for chat in chats:
                out.write(json.dumps(chat, ensure_ascii=False, separators=(",", ":")))
                out.write("\n")
            written += len(chats)
            if len(chats) < PAGE_SIZE:
                break
            since_id = chats[-1]["id"]
    print(f"exported {written} chats to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
