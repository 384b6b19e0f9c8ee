== calls_emu_dpdk: /usr/bin/python3 /work/main/perf/scenarios/calls.py --io dpdk --provider emu --rates 400,1000,2000 --common-rate 1000 --out /work/main/perf/results/calls_emu_dpdk
