"""DAG bundles: DAG files kept in Tencent COS."""
