#pragma once
// Include this FIRST in every CPU kernel file (before any other header).
//
// The kernels' loops use comparisons and selects (clamps in exp, `x > 0 ? a : b` in ReLU and friends).
// Under GCC's default -ftrapping-math the vectoriser refuses to if-convert them, because a comparison
// might raise a floating-point exception; nothing here inspects FP exception flags, so we turn that off
// for these files only. It must precede every include so that the inline functions from headers get the
// same setting and still inline into the kernels. (-fno-math-errno, which would also vectorise sqrt,
// only takes effect on the command line.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
