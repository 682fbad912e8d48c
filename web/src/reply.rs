//! The worker-reply reducer: every message from the model worker, applied to the page's
//! state. The only place replies change what the page shows.

use leptos::prelude::*;

use crate::protocol::{FromWorker, LATEST_LEAKS};
use crate::snapshot::verify;
use crate::state::{Book, Job, Live, Status, Ui};

pub fn apply(ui: Ui, book: Book, reply: FromWorker) {
    match reply {
        // `Sampled` is for the CPU pool inside the model worker; it never reaches the page.
        FromWorker::Ready | FromWorker::Sampled { .. } => {}
        FromWorker::Backend { label } => ui.backend.set(label),
        FromWorker::Status { text } => ui.status.set(if ui.busy.get_untracked() {
            Status::Running(text)
        } else {
            Status::Starting(text)
        }),
        FromWorker::Download { file, done, total } => ui.download.set(Some((file, done, total))),
        FromWorker::Loaded { info } => {
            ui.download.set(None);
            ui.model_info.set(Some(info));
            if book.finish_job(1) {
                ui.busy.set(false);
                ui.status.set(Status::Ready);
            }
        }
        FromWorker::Started { config } => {
            book.run_config.set_value(Some(*config));
            book.run_questions.set_value(Vec::new());
        }
        FromWorker::Greedy { text, score, .. } => {
            let s = ui.settings.get_untracked();
            ui.greedy.set(Some((text, score, s.tau)));
            ui.live.set(Some(Live::default()));
            ui.status
                .set(Status::Running(format!("sampling {} answers", s.samples)));
        }
        FromWorker::Progress {
            question,
            questions,
            samples_done,
            samples_total,
            tokens,
            ms,
        } => {
            let rate = tokens as f64 / (ms / 1000.0).max(1e-3);
            ui.progress.set(Some((
                question,
                questions,
                samples_done,
                samples_total,
                rate,
            )));
        }
        FromWorker::Samples {
            leaking,
            leaks,
            n,
            lower,
            upper,
        } => ui.live.update(|live| {
            let live = live.get_or_insert_with(Live::default);
            live.leaking.extend(leaking);
            let extra = live.leaking.len().saturating_sub(LATEST_LEAKS);
            live.leaking.drain(..extra);
            (live.leaks, live.n, live.lower, live.upper) = (leaks, n, lower, upper);
        }),
        FromWorker::Question { report } => match book.job.get_value() {
            Job::Single => ui.single.set(Some(*report)),
            Job::Verify => {
                if let Some(s) = ui.snapshot.get_untracked() {
                    let v = verify(&s.report, &report);
                    ui.verification.set(Some((v.identical(), v.describe())));
                }
                ui.single.set(Some(*report));
            }
            Job::All => {
                book.run_questions.update_value(|q| q.push(*report));
                ui.set_report.set(book.gathered());
            }
        },
        FromWorker::Finished {
            stopped,
            tokens,
            ms,
        } => {
            book.running.set_value(false);
            ui.throughput.set(Some((tokens, ms)));
            book.finish_job(1);
            ui.busy.set(false);
            ui.status.set(if stopped {
                Status::Stopped(if book.job.get_value() == Job::All {
                    "the questions finished so far are kept"
                } else {
                    "the samples drawn so far are discarded"
                })
            } else {
                Status::Done
            });
        }
        FromWorker::Failed { message } => {
            // The worker drops what was queued behind a failure.
            book.outstanding.set_value(0);
            book.running.set_value(false);
            if ui.model_info.get_untracked().is_none() {
                book.loaded_key.set_value(None);
            }
            ui.download.set(None);
            ui.busy.set(false);
            ui.status.set(Status::Failed(message));
        }
    }
}
