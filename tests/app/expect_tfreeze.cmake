# Included by the CLI scenario scripts (cmake -P): runs tfreeze in WORK_DIR and checks what it did.
#   expect(<exit code> <stdout regex> <stderr regex> <tfreeze arguments>...)
# fails the script with the command, its exit code and its output when one of the three does not
# match, and sets LAST_STDOUT and LAST_STDERR in the caller for further checks.
function(expect exitExpected stdoutRegex stderrRegex)
    execute_process(COMMAND "${TFREEZE}" ${ARGN}
        WORKING_DIRECTORY "${WORK_DIR}"
        RESULT_VARIABLE exitCode
        OUTPUT_VARIABLE stdout
        ERROR_VARIABLE stderr)
    list(JOIN ARGN " " commandText)
    set(report "tfreeze ${commandText}\nexit code: ${exitCode}\n--- stdout ---\n${stdout}--- stderr ---\n${stderr}")
    message(STATUS "${report}")
    if(NOT exitCode STREQUAL exitExpected)
        message(FATAL_ERROR "expected exit code ${exitExpected}\n${report}")
    endif()
    if(NOT stdout MATCHES "${stdoutRegex}")
        message(FATAL_ERROR "stdout does not match \"${stdoutRegex}\"\n${report}")
    endif()
    if(NOT stderr MATCHES "${stderrRegex}")
        message(FATAL_ERROR "stderr does not match \"${stderrRegex}\"\n${report}")
    endif()
    set(LAST_STDOUT "${stdout}" PARENT_SCOPE)
    set(LAST_STDERR "${stderr}" PARENT_SCOPE)
endfunction()
