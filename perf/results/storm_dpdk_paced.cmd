== storm_dpdk_paced: /usr/bin/python3 /work/main/perf/scenarios/storm_dpdk.py --endpoints 100000 --registrars 6 --rate 30000 --out /work/main/perf/results/storm_dpdk_paced.json
