"""Dify-side glue shared by the tool and provider classes: credentials in, messages out.

Everything about the WebUI itself lives in the Dify-free ``webui`` package.
"""
