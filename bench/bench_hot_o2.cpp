// The hot-path suite of bench_hot.cpp again, compiled at -O2 (the flag is set
// on this file in bench/CMakeLists.txt), its benchmark names prefixed "O2/".
//
// The library's namespace is renamed in this file: the linker keeps one copy
// of each inline function that is not inlined, and without the rename the -O2
// loops could call the -O3 copies from the rest of the binary (or the other
// way round). Every statusz symbol here is this file's own, compiled at -O2.
#define statusz statusz_o2
#define STATUSZ_BENCH_HOT_PREFIX "O2/"
#include "bench_hot.cpp"
