//! The reflection store beside its floors, on the same disk in the same run:
//! a durable save (seal + insert + flush + fdatasync) beside a bare 4 KiB
//! write + fdatasync,
//! and listing a member's newest 20 among 100,000 reflections beside a raw
//! sled prefix scan of 20 values. Also `/map` for a member with 1,000.
//!
//! `cargo bench --bench store`

use std::fs::OpenOptions;
use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use practice_companion::Framework;
use practice_companion::commands::personal::{self, Member, Personal};
use practice_companion::reflections::{Draft, Mode};
use practice_companion::store::{SecretKey, Store};

const MEMBERS: u64 = 1_000;
const PER_MEMBER: u64 = 100;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("companion-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn draft(i: u64) -> Draft {
    Draft {
        title: format!("Session {i}"),
        text: "We explored what the client wants from coaching and how it differs from the therapy they had before. ".repeat(8),
        competences: vec!["core:1.2".parse().expect("id"), "core:3.5".parse().expect("id")],
        model: "free".into(),
        mode: Mode::Coaching,
        minutes: None,
    }
}

fn durable_save(c: &mut Criterion) {
    let framework = Framework::builtin().expect("framework");
    let dir = scratch("save");
    let store = Store::open(&dir.join("store"), Some(SecretKey::generate())).expect("store");
    let floor_path = dir.join("floor.bin");
    let page = vec![7u8; 4096];
    let mut group = c.benchmark_group("durable reflection save");
    let mut i = 0;
    group.bench_function("seal + insert + flush + fdatasync", |b| {
        b.iter(|| {
            i += 1;
            black_box(
                store
                    .add_reflection(1, |id| {
                        draft(i).into_reflection(id, 1, Utc::now(), &framework)
                    })
                    .expect("save"),
            )
        })
    });
    group.bench_function("floor: 4 KiB write + fdatasync, same disk", |b| {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&floor_path)
            .expect("file");
        b.iter(|| {
            file.write_all(&page).expect("write");
            file.sync_data().expect("fsync");
        })
    });
    group.finish();
}

fn listing(c: &mut Criterion) {
    let framework = Framework::builtin().expect("framework");
    let dir = scratch("list");
    let store = Store::open(&dir.join("store"), Some(SecretKey::generate())).expect("store");
    for member in 1..=MEMBERS {
        for i in 0..PER_MEMBER {
            store
                .add_reflection(member, |id| {
                    draft(i).into_reflection(id, member, Utc::now(), &framework)
                })
                .expect("save");
        }
    }
    // The floor: the same number of values of the same size, raw in sled.
    let raw = sled::open(dir.join("raw")).expect("sled");
    let value = vec![9u8; 1100];
    for member in 1..=MEMBERS {
        for i in 0..PER_MEMBER {
            let mut key = member.to_be_bytes().to_vec();
            key.extend_from_slice(&i.to_be_bytes());
            raw.insert(key, value.clone()).expect("insert");
        }
    }
    raw.flush().expect("flush");
    let mut group = c.benchmark_group("newest 20 of a member, 100,000 reflections stored");
    group.bench_function("page_of (decrypt 20)", |b| {
        b.iter(|| black_box(store.page_of(black_box(500), None, 1, 20).expect("page")))
    });
    group.bench_function("floor: raw sled prefix scan of 20 values", |b| {
        b.iter(|| {
            let n: usize = raw
                .scan_prefix(black_box(500u64).to_be_bytes())
                .rev()
                .take(20)
                .map(|e| e.map(|(_, v)| v.len()).unwrap_or(0))
                .sum();
            black_box(n)
        })
    });
    group.finish();

    // /map for a member with 1,000 reflections.
    for i in 0..(1_000 - PER_MEMBER) {
        store
            .add_reflection(7, |id| {
                draft(i).into_reflection(id, 7, Utc::now(), &framework)
            })
            .expect("save");
    }
    let mut group = c.benchmark_group("/map for a member with 1,000 reflections");
    group.bench_function("map", |b| {
        b.iter(|| {
            let member = Member {
                framework: &framework,
                store: &store,
                id: 7,
                now: Utc::now(),
                guild: None,
                times: personal::Times::Utc,
            };
            black_box(personal::handle(&member, Personal::Map).expect("map"))
        })
    });
    group.finish();
}

criterion_group!(benches, durable_save, listing);
criterion_main!(benches);
