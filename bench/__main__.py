"""Run every benchmark and print its table: python -m bench"""

from bench import agent_reads, cold_start, lb, memory, overhead, startup

for module in (startup, cold_start, overhead, memory, lb, agent_reads):
    print()
    module.main()
