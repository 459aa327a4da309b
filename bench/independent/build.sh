#!/bin/sh
# Builds the same source twice: -O2 and -O3 (g++, C++17, NDEBUG), against the
# checkout's headers.
set -eu
cd "$(dirname "$0")"
for opt in O2 O3; do
  g++ -std=c++17 -$opt -DNDEBUG -I../../include -Wall -Wextra \
      hot_path.cpp -o hot_path_$opt -lbenchmark -lbenchmark_main -pthread
done
