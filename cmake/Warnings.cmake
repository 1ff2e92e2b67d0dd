# Warnings are errors for every target the project builds.
# GCC (the default compiler) checks that no local shadows another local (-Wshadow=local). Clang
# (used for the libFuzzer build) has no such flag: its -Wshadow also rejects locals named like
# fields or namespace variables, code GCC accepts, so clang builds leave shadowing to GCC.
# GCC 12's -Wmaybe-uninitialized reports std::variant's storage as uninitialized at -O2 (a known
# false positive of that release), so it is off for GCC; clang and the sanitizer builds still check.
# GCC 12 also reports `"literal" + std::string` at -O2 as an overlapping memcpy (-Wrestrict, GCC bug
# 105651), so that one is off for GCC as well.
function(lakeflow_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wpedantic
                                           -Wnon-virtual-dtor -Wimplicit-fallthrough
                                           "$<$<CXX_COMPILER_ID:GNU>:-Wshadow=local;-Wno-maybe-uninitialized;-Wno-restrict>")
endfunction()
