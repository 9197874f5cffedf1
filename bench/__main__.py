"""Run every benchmark and print its table: python -m bench"""

from bench import cold_start, memory, overhead

for module in (cold_start, overhead, memory):
    print()
    module.main()
