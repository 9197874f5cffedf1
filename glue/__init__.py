"""Dify-side glue shared by the tool and provider classes: credentials in, messages out.

credentials.py: provider credentials -> server settings; files.py: Dify files -> images;
generate.py, extras.py, resources.py: each tool's flow; outputs.py: results -> messages;
delivery.py: who reads the messages (tool node, agent runners) and the gate every message
leaves by, cut to fit by budget.py; progress.py: progress as a stream variable; pickers.py:
the dynamic-selects; call.py: what every call starts with.

Everything about the WebUI itself lives in the Dify-free ``webui`` package.
"""
