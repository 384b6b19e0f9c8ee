== compare_uac_dpdk: /usr/bin/python3 /work/main/perf/scenarios/compare_uac.py --accounts 10000 --rate 5000 --io dpdk --out /work/main/perf/results/compare_uac_dpdk
