from django.urls import path

from . import entry_views, views

app_name = "oncology"
urlpatterns = [
    path("patients/<int:pk>/", views.cancer_summary, name="summary"),
    path("patients/<int:pk>/print/", views.cancer_summary_print, name="print"),
    path("patients/<int:pk>/record/<str:record_type>/new/", entry_views.record_new, name="record_new"),
    path("record/<str:record_type>/<int:pk>/", entry_views.record_correct, name="record_correct"),
    path("import/", views.import_upload, name="import"),
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
]
