"""Dify-side glue shared by the tool and provider classes: credentials in, messages out.

credentials.py: provider credentials -> server settings; files.py: Dify files -> images;
generate.py, extras.py, resources.py: each tool's flow; outputs.py: results -> messages,
bounded by budget.py; progress.py: progress as a stream variable; pickers.py: the
dynamic-selects; session.py: who invoked the tool (workflow or agent).

Everything about the WebUI itself lives in the Dify-free ``webui`` package.
"""
