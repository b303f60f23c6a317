"""Multi-omics analyses: ``omics_rosmap`` (Alzheimer's disease vs control) and
``omics_paad_survival`` (pancreatic adenocarcinoma survival risk), run on a patient's uploaded
omics table by the inference server, with their figures stored as artifacts; and the downloadable
input templates. Model logic lives in the inference server, never here.
"""
