! regfrontd --dpdk-profile: the EAL's arguments, one a line ('!' or '#' starts a comment).
! An option and its value (-l 2-3, --file-prefix regfront), `port PCI-ADDRESS[,DEVARGS]` (a NIC
! the EAL may use, as -a) or `vdev DEVICE` (a virtual device). Check it with
!   regfrontd --check-config /etc/regfront/startup-config --dpdk-profile /etc/regfront/dpdk.profile
! The EAL numbers the ports it probes dpdk0, dpdk1, ... (`interface dpdkN` in the startup-config).
!
! The main lcore (control thread) and one lcore per --workers, on the NIC's NUMA node.
-l 1-2
! No hugepage files to share (one DPDK process); the EAL's runtime files go under
! /run/regfront (the unit's XDG_RUNTIME_DIR), named by the prefix.
--in-memory
--file-prefix regfront
!
! Intel (ice, i40e, ixgbe) bound to vfio-pci by /etc/dpdk/interfaces:
port 0000:03:00.0
! Mellanox ConnectX (mlx5, bifurcated: stays on its kernel driver, no binding):
!port 0000:81:00.0,dv_flow_en=1
