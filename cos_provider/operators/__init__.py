"""Copy operators for Tencent COS."""
