// Which sanitizer a test binary is built with (STATUSZ_ASAN, STATUSZ_TSAN),
// and the skips the fork tests need under each, with their reasons. Shared by
// the tests that fork (test_cells.cpp, test_lifecycle.cpp).
#pragma once

#include <gtest/gtest.h>

#if defined(__SANITIZE_THREAD__)
#define STATUSZ_TSAN 1
#elif defined(__SANITIZE_ADDRESS__)
#define STATUSZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STATUSZ_TSAN 1
#elif __has_feature(address_sanitizer)
#define STATUSZ_ASAN 1
#endif
#endif

// TSan cannot run threads started in a forked child; the fork tests run in
// the plain and ASan builds.
#if defined(STATUSZ_TSAN)
#define SKIP_UNDER_TSAN() \
  GTEST_SKIP() << "TSan does not support threads started after fork()"
#else
#define SKIP_UNDER_TSAN() (void)0
#endif

// For a test that forks while other threads of the parent allocate: under
// clang 14's ASan the child then sometimes hangs in its first allocation.
// ASan's allocator (sanitizer_common's SizeClassAllocator64) takes no lock
// around fork(), so a region lock held by a parent thread at the fork stays
// held in the child forever; glibc's malloc, which the plain build uses,
// does take its locks around fork(). Seen with gdb on a hung child: every
// thread waits in SizeClassAllocator64::GetFromAllocator under
// AsanThread::Init (the child's new threads), with no statusz frame (see
// also google/sanitizers#1814). These tests run in the plain build.
#if defined(STATUSZ_ASAN)
#define SKIP_UNDER_ASAN_FORK_WITH_ALLOCATING_THREADS()                     \
  GTEST_SKIP() << "ASan's allocator is not fork-safe while other threads " \
                  "allocate (a child can hang in malloc; sanitizers.hpp)"
#else
#define SKIP_UNDER_ASAN_FORK_WITH_ALLOCATING_THREADS() (void)0
#endif
