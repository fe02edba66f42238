"""Signal layer, the ground floor: the record type (:class:`~cardiofm.signal.record.ECGRecord`, lead names)
and pure transforms (resampling, filtering, cropping, :class:`~cardiofm.signal.transforms.Preprocess`).

It imports nothing of cardiofm but the base modules (errors, registry, fileio, paths, pool); every other
package may import it.
"""
