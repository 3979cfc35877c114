# Runs one command and checks its exit code and what it printed, for the CLI tests:
#   cmake -DEXPECT_EXIT=2 [-DEXPECT_STDOUT=regex] [-DEXPECT_STDERR=regex] [-DWORK_DIR=dir]
#         -P check_cli.cmake -- <program> <arguments>...
# PASS_REGULAR_EXPRESSION alone cannot tell exit code 2 (bad input) from 1 (internal failure) or a
# crash, and the exit code alone cannot tell which message the user saw: this checks both.
cmake_minimum_required(VERSION 3.25)

set(command)
set(afterSeparator FALSE)
math(EXPR lastArgument "${CMAKE_ARGC} - 1")
foreach(index RANGE ${lastArgument})
    if(afterSeparator)
        list(APPEND command "${CMAKE_ARGV${index}}")
    elseif(CMAKE_ARGV${index} STREQUAL "--")
        set(afterSeparator TRUE)
    endif()
endforeach()
if(NOT command)
    message(FATAL_ERROR "check_cli.cmake: no command after --")
endif()
if(NOT DEFINED EXPECT_EXIT)
    set(EXPECT_EXIT 0)
endif()
if(NOT DEFINED WORK_DIR)
    set(WORK_DIR "${CMAKE_CURRENT_BINARY_DIR}")
endif()

execute_process(COMMAND ${command}
    WORKING_DIRECTORY "${WORK_DIR}"
    RESULT_VARIABLE exitCode
    OUTPUT_VARIABLE stdout
    ERROR_VARIABLE stderr)
list(JOIN command " " commandText)
set(report "command: ${commandText}\nexit code: ${exitCode}\n--- stdout ---\n${stdout}--- stderr ---\n${stderr}")

if(NOT exitCode STREQUAL EXPECT_EXIT)
    message(FATAL_ERROR "expected exit code ${EXPECT_EXIT}\n${report}")
endif()
if(DEFINED EXPECT_STDOUT AND NOT stdout MATCHES "${EXPECT_STDOUT}")
    message(FATAL_ERROR "stdout does not match \"${EXPECT_STDOUT}\"\n${report}")
endif()
if(DEFINED EXPECT_STDERR AND NOT stderr MATCHES "${EXPECT_STDERR}")
    message(FATAL_ERROR "stderr does not match \"${EXPECT_STDERR}\"\n${report}")
endif()
message(STATUS "${report}")
