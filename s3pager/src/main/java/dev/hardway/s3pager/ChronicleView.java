package dev.hardway.s3pager;

import net.openhft.chronicle.bytes.BytesStore;

/** Kept apart so that Chronicle Bytes, an optional dependency, is loaded only by {@link PagedObject#chronicleBytes}. */
final class ChronicleView {
  private ChronicleView() { }

  static BytesStore<?, ?> wrap(long address, long size) {
    // Chronicle refuses address 0, which is what an empty object has.
    return size == 0 ? BytesStore.wrap(new byte[0]) : BytesStore.wrap(address, size);
  }
}
