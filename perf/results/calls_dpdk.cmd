== calls_dpdk: /usr/bin/python3 /work/main/perf/scenarios/calls.py --io dpdk --rates 200,400,1000 --common-rate 200 --out /work/main/perf/results/calls_dpdk
