"""The background sender: one thread per process that runs mail jobs in order.

Why not send in the request? Three threats and one nuisance:

- account enumeration by timing: "Forgot your password?" must take as long for a
  name with an account as for one without, and looking the account up, writing a
  token and talking to a mail server take time; so the request only queues the job
  (the same job whatever was typed) and the lookup happens here;
- a mail server that is down or slow must not change a page or turn it into a 5xx;
- gunicorn's threads are few: a request held for a 10-second SMTP timeout is a thread
  unavailable to everyone else;
- a user should not wait for a mail server to see a page.

The queue is bounded (``MAIL_QUEUE_SIZE``) and lives in the process's memory: a
process that stops with messages still waiting loses them, and the user asks again.
Every view that queues mail is rate-limited, so the queue stays short. After a fork
(gunicorn's workers) the first job starts a fresh thread and queue in the child.
Tests call ``wait_until_idle`` to continue once every queued job has run.
"""

import logging
import os
import queue
import threading


class Sender:
    def __init__(self, app):
        self.app = app
        self.logger = app.logger.getChild("mail")
        # The app's logger passes WARNING and up; a delivery in development is worth its line.
        self.logger.setLevel(logging.INFO)
        self.lock = threading.Lock()
        self.pid = None
        self.jobs = None

    def submit(self, job, *args):
        jobs = self._running_queue()
        try:
            jobs.put_nowait((job, args))
        except queue.Full:
            self.logger.warning("mail queue full: dropped a %s job", job.__name__)

    def wait_until_idle(self):
        """Block until every job queued so far has run (for tests and shutdown)."""
        if self.jobs is not None and self.pid == os.getpid():
            self.jobs.join()

    def _running_queue(self):
        with self.lock:
            if self.pid != os.getpid():
                self.pid = os.getpid()
                self.jobs = queue.Queue(maxsize=self.app.config["MAIL_QUEUE_SIZE"])
                threading.Thread(target=self._run, args=(self.jobs,), name="mail-sender", daemon=True).start()
            return self.jobs

    def _run(self, jobs):
        while True:
            job, args = jobs.get()
            try:
                with self.app.app_context():
                    job(*args)
            except Exception:
                # One broken job must not stop the thread that sends everyone's mail.
                self.logger.exception("mail job %s failed", job.__name__)
            finally:
                jobs.task_done()
