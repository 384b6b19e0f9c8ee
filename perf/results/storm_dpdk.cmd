== storm_dpdk: /usr/bin/python3 /work/main/perf/scenarios/storm_dpdk.py --endpoints 100000 --registrars 6 --rate 1000000 --out /work/main/perf/results/storm_dpdk.json
