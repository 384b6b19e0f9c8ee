== calls_dpdk: /usr/bin/python3 /work/wt-demo/perf/scenarios/calls.py --io dpdk --rates 200,400,1000 --common-rate 200 --out /work/wt-demo/perf/results/calls_dpdk
