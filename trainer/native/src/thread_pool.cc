#include "thread_pool.h"

#include <algorithm>
#include <cstdlib>

namespace whetstone {

namespace {

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
    std::size_t index;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= tasks_) return;
      index = next_++;
    }
    (*task_)(index);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (++finished_ == tasks_) done_.notify_all();
    }
  }
}

void ThreadPool::work() {
  std::size_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
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
    finished_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  drain();
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return finished_ == tasks_; });
  task_ = nullptr;
  tasks_ = 0;
}

void parallel_ranges(std::size_t count, const std::function<void(std::size_t, std::size_t)>& body) {
  ThreadPool& pool = ThreadPool::instance();
  const std::size_t parts = std::min(count, pool.size());
  pool.run(parts, [&](std::size_t part) {
    const std::size_t begin = count * part / parts;
    const std::size_t end = count * (part + 1) / parts;
    if (begin < end) body(begin, end);
  });
}

void parallel_for(std::size_t count, std::size_t grain, const std::function<void(std::size_t, std::size_t)>& body) {
  ThreadPool& pool = ThreadPool::instance();
  const std::size_t parts = std::min(pool.size(), count / std::max<std::size_t>(grain, 1));
  if (parts <= 1) {
    if (count > 0) body(0, count);
    return;
  }
  const auto boundary = [&](std::size_t part) {
    return part == parts ? count : count * part / parts / 16 * 16;
  };
  pool.run(parts, [&](std::size_t part) {
    const std::size_t begin = boundary(part), end = boundary(part + 1);
    if (begin < end) body(begin, end);
  });
}

}  // namespace whetstone
