# Small helpers, one per target kind, so that every module's CMakeLists.txt stays a few lines.
#
#   regfront_library(NAME sip SRCS parser.cc DEPS regfront::common)
#       -> static library regfront_sip, alias regfront::sip, public include dir include/
#   regfront_test(NAME sip_parser SRCS parser_test.cc DEPS regfront::sip [LABELS threads])
#       -> GoogleTest executable registered with ctest (gtest_discover_tests), label "unit" by
#          default; label "threads" (one label: gtest_discover_tests passes a single value)
#          instead marks threaded tests, which the tsan preset builds (`threaded_tests`) and runs
#   regfront_benchmark(NAME sip SRCS sip_bench.cc DEPS regfront::sip [SMOKE_ARGS --benchmark_filter=…])
#       -> Google Benchmark executable plus a ctest smoke run (label "bench"); SMOKE_ARGS trims
#          what the smoke run does (a fixture that takes a minute to build is for full runs)

function(regfront_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(regfront_${A_NAME} STATIC ${A_SRCS})
  add_library(regfront::${A_NAME} ALIAS regfront_${A_NAME})
  target_include_directories(regfront_${A_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(regfront_${A_NAME} PUBLIC ${A_DEPS})
endfunction()

function(regfront_test)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(test_${A_NAME} ${A_SRCS})
  target_link_libraries(test_${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(test_${A_NAME} PRIVATE
    REGFRONT_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data"
    REGFRONT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  set_target_properties(test_${A_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  gtest_discover_tests(test_${A_NAME} PROPERTIES LABELS "${A_LABELS}" DISCOVERY_TIMEOUT 60)
  # Tests labelled "threads" also run under ThreadSanitizer (the tsan preset builds only them).
  if("threads" IN_LIST A_LABELS)
    if(NOT TARGET threaded_tests)
      add_custom_target(threaded_tests)
    endif()
    add_dependencies(threaded_tests test_${A_NAME})
  endif()
endfunction()

function(regfront_benchmark)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;SMOKE_ARGS" ${ARGN})
  add_executable(bench_${A_NAME} ${A_SRCS})
  target_link_libraries(bench_${A_NAME} PRIVATE ${A_DEPS} benchmark::benchmark benchmark::benchmark_main)
  set_target_properties(bench_${A_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/perf)
  # CI only smoke-runs benchmarks so they keep compiling and running; figures come from full runs.
  add_test(NAME bench_${A_NAME}_smoke COMMAND bench_${A_NAME} --benchmark_min_time=0.01 ${A_SMOKE_ARGS})
  set_tests_properties(bench_${A_NAME}_smoke PROPERTIES LABELS bench)
endfunction()

#   regfront_fuzz_target(NAME sip_message SRCS sip_message_fuzz.cc DEPS regfront::sip
#                        CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus)
#       -> always: fuzz_replay_NAME (plain executable replaying every corpus file through
#          LLVMFuzzerTestOneInput) registered with ctest (label "fuzz");
#          with REGFRONT_FUZZ=ON and clang: fuzz_NAME, a libFuzzer binary.
function(regfront_fuzz_target)
  cmake_parse_arguments(A "" "NAME;CORPUS;DICT" "SRCS;DEPS" ${ARGN})
  add_executable(fuzz_replay_${A_NAME} ${A_SRCS} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc)
  target_link_libraries(fuzz_replay_${A_NAME} PRIVATE ${A_DEPS})
  set_target_properties(fuzz_replay_${A_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_test(NAME fuzz_replay_${A_NAME} COMMAND fuzz_replay_${A_NAME} ${A_CORPUS})
  set_tests_properties(fuzz_replay_${A_NAME} PROPERTIES LABELS fuzz)
  if(REGFRONT_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    add_executable(fuzz_${A_NAME} ${A_SRCS})
    target_compile_options(fuzz_${A_NAME} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${A_NAME} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_${A_NAME} PRIVATE ${A_DEPS})
    set_target_properties(fuzz_${A_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
    # Short smoke run in CI; long runs are done by hand: fuzz_NAME CORPUS -dict=DICT.
    set(_dict_arg "")
    if(A_DICT)
      set(_dict_arg -dict=${A_DICT})
    endif()
    # New inputs go to a scratch directory in the build tree (libFuzzer writes to its first
    # corpus directory), so a run never edits the checked-in corpus.
    set(_scratch ${CMAKE_CURRENT_BINARY_DIR}/fuzz-new-${A_NAME})
    add_test(NAME fuzz_smoke_${A_NAME}
             COMMAND sh -c "mkdir -p '${_scratch}' && exec \"$0\" \"$@\""
                     $<TARGET_FILE:fuzz_${A_NAME}> -max_total_time=20 -rss_limit_mb=2048 ${_dict_arg}
                     ${_scratch} ${A_CORPUS})
    set_tests_properties(fuzz_smoke_${A_NAME} PROPERTIES LABELS fuzz)
  endif()
endfunction()
