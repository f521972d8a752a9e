#include "thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace whetstone {

namespace {

// How long a worker watches for the next job before it sleeps.
constexpr std::chrono::microseconds kWatch{200};

inline void pause() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

std::size_t configured_threads() {
  if (const char* text = std::getenv("WHETSTONE_THREADS")) {
    const long value = std::strtol(text, nullptr, 10);
    if (value >= 1 && value <= 1024) return static_cast<std::size_t>(value);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool(configured_threads());
  return pool;
}

ThreadPool::ThreadPool(std::size_t threads) {
  for (std::size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

// Takes task indices until none are left; called with no lock held.
void ThreadPool::drain() {
  for (;;) {
    const std::function<void(std::size_t)>* task;
    std::size_t index;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= tasks_) return;
      task = task_;
      index = next_++;
    }
    (*task)(index);
    finished_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::work() {
  std::size_t seen = 0;
  for (;;) {
    const auto deadline = std::chrono::steady_clock::now() + kWatch;
    for (std::size_t polls = 1; generation_.load(std::memory_order_acquire) == seen; ++polls) {
      pause();
      if (polls % 256 == 0 && std::chrono::steady_clock::now() > deadline) break;
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_.load(std::memory_order_relaxed) != seen; });
      if (stopping_) return;
      seen = generation_.load(std::memory_order_relaxed);
    }
    drain();
  }
}

void ThreadPool::run(std::size_t tasks, const std::function<void(std::size_t)>& task) {
  if (tasks == 0) return;
  if (tasks == 1 || workers_.empty()) {
    for (std::size_t i = 0; i < tasks; ++i) task(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    tasks_ = tasks;
    next_ = 0;
    finished_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  drain();
  // The other threads are at work on the last tasks: watch for them, yielding the core now and
  // then in case one of them waits for it.
  for (std::size_t polls = 1; finished_.load(std::memory_order_acquire) != tasks; ++polls) {
    pause();
    if (polls % 64 == 0) std::this_thread::yield();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  task_ = nullptr;
  tasks_ = 0;
}

namespace {

// Runs body on at most pool-size contiguous ranges of [0, count), each at least `grain` items, with
// every boundary but the last a multiple of `alignment`; a single range runs on the caller.
void split(std::size_t count, std::size_t grain, std::size_t alignment,
           const std::function<void(std::size_t, std::size_t)>& body) {
  ThreadPool& pool = ThreadPool::instance();
  const std::size_t parts = std::min(pool.size(), count / std::max<std::size_t>(grain, 1));
  if (parts <= 1) {
    if (count > 0) body(0, count);
    return;
  }
  const auto boundary = [&](std::size_t part) {
    return part == parts ? count : count * part / parts / alignment * alignment;
  };
  pool.run(parts, [&](std::size_t part) {
    const std::size_t begin = boundary(part), end = boundary(part + 1);
    if (begin < end) body(begin, end);
  });
}

}  // namespace

void parallel_ranges(std::size_t count, const std::function<void(std::size_t, std::size_t)>& body) {
  split(count, 1, 1, body);
}

void parallel_for(std::size_t count, std::size_t grain, const std::function<void(std::size_t, std::size_t)>& body) {
  split(count, grain, 16, body);
}

}  // namespace whetstone
