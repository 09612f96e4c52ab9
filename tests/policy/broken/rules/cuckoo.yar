import "cuckoo"

rule mutex_seen {
  condition:
    cuckoo.sync.mutex(/EvilMutex/)
}
