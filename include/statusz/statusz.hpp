// statusz: lock-free meters, counters, keyed counters, gauges, histograms,
// timers and timed health probes that make a server status document. This
// umbrella header includes the whole library; each header says what its type
// costs and what is thread-safe.
#pragma once

#include "clock.hpp"
#include "counter.hpp"
#include "document.hpp"
#include "gauge.hpp"
#include "histogram.hpp"
#include "http.hpp"
#include "json.hpp"
#include "keyed_counter.hpp"
#include "meter.hpp"
#include "probe.hpp"
#include "process.hpp"
#include "prometheus.hpp"
#include "registry.hpp"
#include "status.hpp"
#include "textfile.hpp"
#include "time_zone.hpp"
#include "timer.hpp"
#include "value.hpp"
#include "version.hpp"
#include "visitor.hpp"
