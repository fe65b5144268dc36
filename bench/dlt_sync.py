"""The dlt peer of `giosg chats sync`: dlt's rest_api source (page-number paginator) loading
every chat of a giosg-mock into dlt's default destination, DuckDB, merged on `id`.

Usage: python dlt_sync.py --base-url URL --org ORG --dir DIR  (token in GIOSG_API_TOKEN)
Prints the number of chats in the destination table.
"""

import argparse
import os

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dlt  # noqa: E402
from dlt.sources.rest_api import rest_api_source  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--org", required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    token = os.environ["GIOSG_API_TOKEN"]
    source = rest_api_source(
        {
            "client": {
                "base_url": f"{args.base_url}/api/v5/orgs/{args.org}/",
                "auth": {
                    "type": "api_key",
                    "name": "Authorization",
                    "api_key": f"Token {token}",
                    "location": "header",
                },
                "paginator": {
                    "type": "page_number",
                    "base_page": 1,
                    "page_param": "page",
                    "total_path": "num_pages",
                },
            },
            "resources": [
                {
                    "name": "chats",
                    "endpoint": {
                        "path": "chats",
                        "params": {"page_size": 100},
                        "data_selector": "results",
                    },
                    "primary_key": "id",
                    "write_disposition": "merge",
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="giosg_bench",
        destination=dlt.destinations.duckdb(os.path.join(args.dir, "chats.duckdb")),
        dataset_name="giosg",
        pipelines_dir=os.path.join(args.dir, "pipelines"),
    )
    pipeline.run(source)
    with pipeline.sql_client() as client:
        print(client.execute_sql("SELECT count(*) FROM chats")[0][0])


if __name__ == "__main__":
    main()
