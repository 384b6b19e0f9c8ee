# The Debian package (deploy/package.sh builds it: `cpack -G DEB` in the build directory).
# regfrontd, regfront-cli, their manual pages, the systemd unit and its DPDK drop-in, the
# example configuration, the dashboards; see docs/deploy.md.
set(REGFRONT_DEB_DIR ${PROJECT_SOURCE_DIR}/deploy/debian)
set(REGFRONT_DEB_GEN ${CMAKE_BINARY_DIR}/deb-gen)

# The installed programs resolve every symbol at start and keep their GOT read-only after it
# (full RELRO, as Debian's hardening flags build them); start-up only, the workers never see it.
target_link_options(regfrontd PRIVATE LINKER:-z,relro,-z,now)
target_link_options(regfront-cli PRIVATE LINKER:-z,relro,-z,now)
install(TARGETS regfrontd RUNTIME DESTINATION sbin)
install(TARGETS regfront-cli RUNTIME DESTINATION bin)
install(FILES ${REGFRONT_DEB_DIR}/regfront.service DESTINATION /lib/systemd/system)
install(FILES ${REGFRONT_DEB_DIR}/regfront.default DESTINATION /etc/default RENAME regfront)
install(FILES ${PROJECT_SOURCE_DIR}/config/example.cfg DESTINATION /etc/regfront RENAME startup-config.example)
install(FILES ${REGFRONT_DEB_DIR}/dpdk.profile DESTINATION /etc/regfront)
install(FILES ${REGFRONT_DEB_DIR}/startup-config.minimal DESTINATION share/regfront)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/grafana/regfront.json DESTINATION share/regfront/grafana)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/prometheus/regfront-alerts.yml DESTINATION share/regfront/prometheus)
install(FILES ${REGFRONT_DEB_DIR}/dpdk.conf DESTINATION share/doc/regfront/examples)
install(FILES ${REGFRONT_DEB_DIR}/copyright ${PROJECT_SOURCE_DIR}/docs/deploy.md ${PROJECT_SOURCE_DIR}/docs/scale-out.md
        DESTINATION share/doc/regfront)
install(FILES ${REGFRONT_DEB_DIR}/lintian-overrides DESTINATION share/lintian/overrides RENAME regfront)
# Compressed as Debian wants them (gzip -9n: no name, no time stamp, reproducible); made by the
# regfront_package_docs target, which package.sh builds before cpack.
install(FILES ${REGFRONT_DEB_GEN}/regfrontd.8.gz DESTINATION share/man/man8)
install(FILES ${REGFRONT_DEB_GEN}/regfront-cli.1.gz DESTINATION share/man/man1)
install(FILES ${REGFRONT_DEB_GEN}/changelog.Debian.gz DESTINATION share/doc/regfront)

string(TIMESTAMP REGFRONT_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(READ ${REGFRONT_DEB_DIR}/changelog REGFRONT_CHANGELOG)
string(REPLACE "@VERSION@" "${PROJECT_VERSION}-1" REGFRONT_CHANGELOG "${REGFRONT_CHANGELOG}")
string(REPLACE "@DATE@" "${REGFRONT_DEB_DATE}" REGFRONT_CHANGELOG "${REGFRONT_CHANGELOG}")
file(WRITE ${REGFRONT_DEB_GEN}/changelog.Debian "${REGFRONT_CHANGELOG}")
add_custom_command(
  OUTPUT ${REGFRONT_DEB_GEN}/regfrontd.8.gz ${REGFRONT_DEB_GEN}/regfront-cli.1.gz ${REGFRONT_DEB_GEN}/changelog.Debian.gz
  COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/deploy/man/regfrontd.8 > ${REGFRONT_DEB_GEN}/regfrontd.8.gz
  COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/deploy/man/regfront-cli.1 > ${REGFRONT_DEB_GEN}/regfront-cli.1.gz
  COMMAND gzip -9n -c ${REGFRONT_DEB_GEN}/changelog.Debian > ${REGFRONT_DEB_GEN}/changelog.Debian.gz
  DEPENDS ${PROJECT_SOURCE_DIR}/deploy/man/regfrontd.8 ${PROJECT_SOURCE_DIR}/deploy/man/regfront-cli.1
          ${REGFRONT_DEB_DIR}/changelog
  VERBATIM)
add_custom_target(regfront_package_docs
  DEPENDS ${REGFRONT_DEB_GEN}/regfrontd.8.gz ${REGFRONT_DEB_GEN}/regfront-cli.1.gz
          ${REGFRONT_DEB_GEN}/changelog.Debian.gz)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME regfront)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SIP registration front end for session border controllers")
# The extended description (CPack indents it and puts the summary above it as the synopsis).
set(CPACK_PACKAGE_DESCRIPTION
    "regfrontd keeps every endpoint (an E.164 number) registered with up to six
SIP registrars of different providers at the same time, answers each
registrar's digest challenge only with the credentials of its realm, and
relays calls between an SBC core and the providers. It is configured in
Cisco IOS syntax and operated with regfront-cli, an IOS-style command line.
Packets go through the kernel's sockets or DPDK poll-mode workers.")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "regfront maintainers <maintainers@users.noreply.r-seed-7a560ce8.example>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # regfront_VERSION-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)    # dpkg-shlibdeps: the DPDK, OpenSSL, c-ares ... libraries
# procps: the unit's /bin/kill (reload). librte-mempool-ring23: the EAL loads mempool drivers
# as plugins, and --io dpdk's mbuf pool needs the ring one (no library links it, so shlibdeps
# cannot see it); 23 is Debian 12's DPDK 22.11 ABI.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, procps, librte-mempool-ring23")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "dpdk, driverctl, libjs-chart.js, prometheus, grafana")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${REGFRONT_DEB_DIR}/postinst ${REGFRONT_DEB_DIR}/prerm ${REGFRONT_DEB_DIR}/postrm
    ${REGFRONT_DEB_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR})
include(CPack)
