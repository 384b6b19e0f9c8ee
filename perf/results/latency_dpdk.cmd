== latency_dpdk: /usr/bin/python3 /work/main/perf/scenarios/storm_dpdk.py --endpoints 2000 --registrars 6 --rate 500 --out /work/main/perf/results/latency_dpdk.json
