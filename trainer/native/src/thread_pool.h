// A persistent pool of worker threads, one per hardware thread (WHETSTONE_THREADS overrides), that
// kernels split their rows across. A training step runs hundreds of kernels back to back, so a
// worker that finishes a job watches for the next one for a short while before it sleeps, and the
// caller watches for the job's end: a futex wake-up takes tens of microseconds on a virtual
// machine, as long as a small kernel itself.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace whetstone {

class ThreadPool {
 public:
  static ThreadPool& instance();

  // Threads that run a job, the caller included.
  std::size_t size() const { return workers_.size() + 1; }

  // Runs task(i) for every i in [0, tasks) on the pool and the calling thread; returns when all
  // have finished. Not reentrant: a task must not call run().
  void run(std::size_t tasks, const std::function<void(std::size_t)>& task);

  ~ThreadPool();

 private:
  explicit ThreadPool(std::size_t threads);
  void work();
  void drain();

  std::vector<std::thread> workers_;
  // mutex_ guards task_, tasks_ and next_, so a task index is always claimed with the job it
  // belongs to; generation_ changes under it too, and is read without it while watching.
  std::mutex mutex_;
  std::condition_variable wake_;
  const std::function<void(std::size_t)>* task_ = nullptr;
  std::size_t tasks_ = 0;
  std::size_t next_ = 0;
  std::atomic<std::size_t> finished_{0};
  std::atomic<std::size_t> generation_{0};
  bool stopping_ = false;
};

// Splits [0, count) into at most pool-size contiguous ranges and runs body(begin, end) on each.
void parallel_ranges(std::size_t count, const std::function<void(std::size_t, std::size_t)>& body);

// Like parallel_ranges, but each range holds at least `grain` items (the caller runs a count below
// two grains alone: waking the pool costs more than it saves), and every range but the last
// starts and ends on a multiple of 16, so vector loops split on whole vectors.
void parallel_for(std::size_t count, std::size_t grain, const std::function<void(std::size_t, std::size_t)>& body);

}  // namespace whetstone
