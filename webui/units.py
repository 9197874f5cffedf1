"""How sizes are shown in messages."""


def mib(size: int) -> str:
    """Bytes as mebibytes with one decimal: 31.2 MiB."""
    return f"{size / (1024 * 1024):.1f} MiB"
