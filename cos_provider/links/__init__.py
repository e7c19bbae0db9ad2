"""Operator extra links: the Tencent COS console."""
